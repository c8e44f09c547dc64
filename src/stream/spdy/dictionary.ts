/**
 * The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): both zlib
 * contexts of a session start from it. It is 65 length-prefixed header words followed by common
 * value fragments; spelled that way here so the bytes can be read and checked (length 1423, zlib
 * dictionary id 0xe3c6a7c2, see header_zlib_test.ts).
 */
/** Separated by "|" as "200 OK" holds a space. */
const WORDS = [
  "options|head|post|put|delete|trace|accept|accept-charset|accept-encoding|accept-language",
  "|accept-ranges|age|allow|authorization|cache-control|connection|content-base|content-enc",
  "oding|content-language|content-length|content-location|content-md5|content-range|content",
  "-type|date|etag|expect|expires|from|host|if-match|if-modified-since|if-none-match|if-ran",
  "ge|if-unmodified-since|last-modified|location|max-forwards|pragma|proxy-authenticate|pro",
  "xy-authorization|range|referer|retry-after|server|te|trailer|transfer-encoding|upgrade|u",
  "ser-agent|vary|via|warning|www-authenticate|method|get|status|200 OK|version|HTTP/1.1|ur",
  "l|public|set-cookie|keep-alive|origin",
].join("").split("|");

const TAIL = [
  "10010120120220520630030230330430530630740240540640740840941041141241341441541641",
  "7502504505203 Non-Authoritative Information204 No Content301 Moved Permanently40",
  "0 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error",
  "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept O",
  "ct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,imag",
  "e/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/",
  "javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1",
  ",utf-,*,enq=0.",
].join("");

function build(): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const parts: number[] = [];
  for (const w of WORDS) {
    const b = enc.encode(w);
    parts.push(0, 0, 0, b.length, ...b);
  }
  parts.push(...enc.encode(TAIL));
  return new Uint8Array(parts);
}

export const SPDY3_DICTIONARY: Uint8Array<ArrayBuffer> = build();
