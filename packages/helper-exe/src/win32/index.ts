// helper-exe's Windows half: suspended helpers that stand in for the program (see win32-helper-backend.ts).
export { createWin32HelperBackend, type Win32HelperBackend, type Win32HelperSettings } from './win32-helper-backend.js';
export { WIN32_PROTOCOL_VERSION } from './wire.js';
