// Small page helpers every panel uses: elements by id, the error box, saving a file.

export const $ = (id) => document.getElementById(id);

// Shows message in the error box; an empty message hides it.
export function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

// Offers bytes (a string, ArrayBuffer or Blob) as a download named name.
export function saveBytes(bytes, name, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
