import { TextDecoder } from 'node:util';

/**
 * The bytes of a config file as text, by ConfigObj's _handle_bom: a UTF-16 byte order mark (either
 * order) means UTF-16, anything else is UTF-8 with or without its mark. The mark stays at the
 * start of the text, where the document keeps it (`bom`).
 *
 * ConfigObj 5.0.8 means to decode UTF-16 but, given a path, splits the bytes at each 0x0A before
 * decoding: a little-endian file of more than one line fails to decode ("truncated data") and a
 * big-endian one names a codec Python does not have ('utf16_be'). vmgen reads both as the
 * docstring of _handle_bom says: "UTF16 will be decoded to unicode".
 */
export type ConfigEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export function configEncoding(bytes: Uint8Array): ConfigEncoding {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

const decoders: Record<ConfigEncoding, TextDecoder> = {
  'utf-8': new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }),
  'utf-16le': new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true }),
  'utf-16be': new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true }),
};

/** The text of a config file; throws a TypeError when the bytes are not valid in their encoding. */
export function decodeConfigBytes(bytes: Uint8Array): { text: string; encoding: ConfigEncoding } {
  const encoding = configEncoding(bytes);
  return { text: decoders[encoding].decode(bytes), encoding };
}
