// CSV for spreadsheets: cells escaped against formula injection, and a download helper.

// A cell starting with = + - @, tab or CR is a formula to a spreadsheet (OWASP, CSV
// injection): such a cell gets a leading ' (text, not a formula) and is quoted. The import
// reads the ' back off, so a downloaded file imports to the same variants.
export function csvCell(value) {
  const s = String(value ?? '');
  if (/^[=+\-@\t\r]/.test(s)) return `"'${s.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Download rows (arrays of cells; the first is the header) as `filename`. */
export function downloadCsv(filename, rows) {
  const text = `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename.replace(/[^\w.-]+/g, '_');
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The records of CSV text (RFC 4180: quoted cells may hold commas, quotes and newlines). */
export function parseCsv(text) {
  const records = [];
  let record = [];
  let cell = '';
  let quoted = false;
  const s = String(text ?? '').replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i += 1) {
    const c = s[i];
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { record.push(cell); cell = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i += 1;
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || record.length) { record.push(cell); records.push(record); }
  return records;
}

/**
 * The (date, variant) pairs of an import file, as the import reads them: the header names
 * the columns, cells are trimmed, a name escaped by csvCell (' before = + - @) is unescaped.
 */
export function importPairs(text) {
  const [header, ...rows] = parseCsv(text);
  const cols = (header ?? []).map((c) => c.trim());
  const di = cols.indexOf('date');
  const vi = cols.indexOf('variant_name');
  if (di < 0 || vi < 0) return [];
  const pairs = [];
  for (const row of rows) {
    const date = (row[di] ?? '').trim();
    let name = (row[vi] ?? '').trim();
    if (/^'[=+\-@]/.test(name)) name = name.slice(1);
    if (date && name) pairs.push({ date, name });
  }
  return pairs;
}
