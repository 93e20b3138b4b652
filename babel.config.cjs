// Babel emits the JS (through Rollup) and transforms sources for Jest.
module.exports = (api) => {
  const test = api.env('test');
  return {
    presets: [
      ['@babel/preset-env', { targets: { node: '20.19' }, modules: test ? 'commonjs' : false }],
      ['@babel/preset-typescript', { allowDeclareFields: true }],
    ],
    // Jest runs CommonJS: give import.meta.url its CommonJS meaning there.
    plugins: test ? ['babel-plugin-transform-import-meta'] : [],
  };
};
