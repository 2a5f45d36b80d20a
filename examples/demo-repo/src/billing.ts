// A secret the runtime must redact before any model sees it (a fake, for the demo).
export const billingConfig = 'STRIPE_SECRET=sk-demo-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c';
