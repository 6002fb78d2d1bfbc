import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';

const schema = JSON.parse(readFileSync(new URL('./emf-schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

/** Problems of one EMF document against the specification; empty when it conforms. */
export function emfProblems(doc: unknown): string[] {
  if (!validate(doc)) return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  const root = doc as Record<string, unknown> & {
    _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  };
  const problems: string[] = [];
  for (const directive of root._aws.CloudWatchMetrics) {
    for (const name of directive.Dimensions.flat()) {
      if (typeof root[name] !== 'string')
        problems.push(`dimension ${name} is not a string member of the root`);
    }
    for (const { Name } of directive.Metrics) {
      const value = root[Name];
      const ok =
        typeof value === 'number' ||
        (Array.isArray(value) && value.length <= 100 && value.every((v) => typeof v === 'number'));
      if (!ok) problems.push(`metric ${Name} has no numeric member in the root`);
    }
  }
  return problems;
}
