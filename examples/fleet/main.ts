import { App } from 'cdktf';
import { FleetStack, settingsFromEnv } from './stack.js';

const app = new App();
new FleetStack(app, 'fleet', settingsFromEnv());
app.synth();
