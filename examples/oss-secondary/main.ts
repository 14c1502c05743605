import { App } from 'cdktf';
import { OssSecondaryStack, settingsFromEnv } from './stack.js';

const app = new App();
new OssSecondaryStack(app, 'oss-secondary', settingsFromEnv());
app.synth();
