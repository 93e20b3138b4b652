// The codemod lands with issues 6 and 7.
export {};
