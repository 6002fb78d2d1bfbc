import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/build-app.js';

buildApp(new App());
