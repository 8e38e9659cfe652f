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
