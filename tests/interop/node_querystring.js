// What the original server made of each form body of a table: Express's
// urlencoded parser (body-parser, extended: false) decodes the body as
// UTF-8 with iconv-lite, whose UTF-8 decoder is Node's StringDecoder and
// drops a leading byte order mark, refuses 1000 or more '&' (413), then
// calls Node's querystring.parse with maxKeys 1000.
//
//   node node_querystring.js TABLE.json
//
// prints one JSON line per row of TABLE (an array of {"body": ...} whose
// body characters U+0000..U+00FF stand for bytes): the parsed object, or
// the number 413.
'use strict';
const fs = require('fs');
const qs = require('querystring');
const { StringDecoder } = require('string_decoder');

function bodyParser(bytes) {
  const d = new StringDecoder('utf8');
  let text = d.write(bytes) + d.end();
  if (text.charCodeAt(0) === 0xfeff)
    text = text.slice(1);
  let amps = 0;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1))
    if (++amps === 1000)
      return 413;
  return text.length === 0 ? {} : qs.parse(text, undefined, undefined,
    { maxKeys: 1000 });
}

const rows = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
for (const row of rows)
  process.stdout.write(JSON.stringify(bodyParser(Buffer.from(row.body,
    'latin1'))) + '\n');
