// Public API of the app domain: the composition root that wires the other domains together.
export { createServices, type BridgeServices } from './create-services.js';
