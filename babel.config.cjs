// Babel emits the JS (through Rollup) and transforms sources for Jest.
module.exports = (api) => {
  const test = api.env('test');
  return {
    presets: [
      ['@babel/preset-env', { targets: { node: '20.19' }, modules: test ? 'commonjs' : false }],
      ['@babel/preset-typescript', { allowDeclareFields: true }],
    ],
  };
};
