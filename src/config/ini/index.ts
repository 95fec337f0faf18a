export * from './document.js';
export { parseIni, splitLines, type IniParseResult } from './parse.js';
export { quoteValue, quoteKey, writeTree, UnquotableError } from './write.js';
