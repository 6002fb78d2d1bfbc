export { ChunkStream, ChunkTopology } from './chunk-stream.js';
export { GlobalTable } from './global-table.js';
export { KGroupedStream, KStream, KTable, WindowedKStream } from './kstream.js';
export { punctuate, type PunctuationType, type Punctuator } from './punctuate.js';
export {
  changelogTopic,
  LoggedStore,
  store,
  type KeyValueStore,
  type ReadOnlyKeyValueStore,
  type StoreSpec,
} from './store.js';
export { StreamTask, type InputRecord, type StreamsBuilder, type TopologyDefinition } from './stream-task.js';
export {
  jsonSerde,
  stringSerde,
  type KeyedRecord,
  type OutputRecord,
  type RecordCollector,
  type Serde,
} from './types.js';
export {
  hopping,
  session,
  tumbling,
  windowedAggregate,
  type OpenWindow,
  type Windowed,
  type Windows,
} from './windows.js';
