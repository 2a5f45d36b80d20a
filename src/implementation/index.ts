// Public API of the implementation domain (A4–A6): isolation, staged edits, the runtime-built
// patch and its checks, verification, promotion. Other domains import only from here.
export {};
