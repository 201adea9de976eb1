'use strict';
/**
 * Jest transformer for ESM-only packages in node_modules (NestJS 12 ships "type": "module").
 *
 * Why: the project compiles to CommonJS and Node >= 20.19 loads these packages through require(esm),
 * but Jest's own module registry can only do that on Node >= 24.9. On older Node, Jest hands ESM files
 * to a configured transform instead (jest.config.js lists which packages), and this one rewrites them
 * to CommonJS with the TypeScript compiler the project already has, so no Babel plugins are needed.
 *
 * ESM has no `require`, `__filename` or `__dirname`; packages rebuild them from `import.meta.url`.
 * Inside Jest's CommonJS wrapper those already exist (and `require` must stay Jest's, so mocks and the
 * module registry keep working), so the rebuilt `require` is dropped and `import.meta` is mapped back.
 */
const crypto = require('node:crypto');
const ts = require('typescript');

/** Bump when the rewrite rules change, so Jest's transform cache is invalidated. */
const TRANSFORM_VERSION = '1';

const REBUILT_REQUIRE = /^[ \t]*const[ \t]+require[ \t]*=[ \t]*createRequire\([ \t]*import\.meta\.url[ \t]*\)[ \t]*;?[ \t]*$/gm;

/** @param {string} source */
function rewriteImportMeta(source) {
  return source
    .replace(REBUILT_REQUIRE, '')
    .replace(/\bimport\.meta\.url\b/g, "require('node:url').pathToFileURL(__filename).href")
    .replace(/\bimport\.meta\.dirname\b/g, '__dirname')
    .replace(/\bimport\.meta\.filename\b/g, '__filename');
}

const COMPILER_OPTIONS = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  allowJs: true,
  esModuleInterop: true,
  sourceMap: false,
};

module.exports = {
  rewriteImportMeta,
  /** @param {string} sourceText @param {string} sourcePath */
  getCacheKey(sourceText, sourcePath) {
    return crypto
      .createHash('sha256')
      .update(TRANSFORM_VERSION)
      .update('\0')
      .update(ts.version)
      .update('\0')
      .update(sourcePath)
      .update('\0')
      .update(sourceText)
      .digest('hex');
  },
  /** @param {string} sourceText @param {string} sourcePath */
  process(sourceText, sourcePath) {
    const output = ts.transpileModule(rewriteImportMeta(sourceText), {
      fileName: sourcePath,
      compilerOptions: COMPILER_OPTIONS,
      reportDiagnostics: false,
    });
    return { code: output.outputText };
  },
};
