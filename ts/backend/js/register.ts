import { registerBackend } from '../registry.js';
import { JsBackend } from './js-backend.js';

registerBackend('js', () => new JsBackend());
