import { App } from 'cdktf';
import { QuickstartStack, settingsFromEnv } from './stack.js';

const app = new App();
new QuickstartStack(app, 'quickstart', settingsFromEnv());
app.synth();
