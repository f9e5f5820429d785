// Image files to pixels, browser-safe: PNG (png.ts) and JPEG (jpeg-js, pure JS), told apart
// by their first bytes, not by the file name.

import jpeg from 'jpeg-js';
import { bytes as bytesArg, checkArgs, str } from '../core/args.js';
import { DataError } from '../core/errors.js';
import { decodePng, type DecodedImage } from './png.js';

export function decodeImage(bytes: Uint8Array, where = 'image'): DecodedImage {
  checkArgs('decodeImage', [bytes, where], { bytes: bytesArg, where: str });
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return decodePng(bytes, where);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    let img: { width: number; height: number; data: Uint8Array };
    try {
      img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
    } catch (e) {
      throw new DataError(`decodeImage: cannot decode the JPEG ${where}: ${(e as Error).message}`);
    }
    return { width: img.width, height: img.height, channels: 3, data: img.data };
  }
  throw new DataError(`decodeImage: ${where} is neither a PNG nor a JPEG file`);
}
