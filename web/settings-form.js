// The settings form, built from the option docs the module exports (Module.optionDocs(): key,
// default, help, choices). An option whose choices are true/false is a checkbox, one with other
// choices a list, one without (numbers, layer widths) a text field. Each control is #opt-<key>.

const isBoolean = (choices) => choices.length === 2 && choices.includes('true') && choices.includes('false');

// The settings a student changes first; every other one sits under a collapsed "Advanced", with
// the same defaults and explanations (a preset fills both).
export const FIRST_SETTINGS = ['epochs', 'learning-rate', 'batchnorm', 'loss'];

// Fills box with one labelled control per option doc: FIRST_SETTINGS, then the others inside
// <details id="advanced">.
export function buildSettings(box, docs) {
  box.textContent = '';
  const first = document.createElement('div');
  first.className = 'settings-grid';
  const advanced = document.createElement('details');
  advanced.id = 'advanced';
  const summary = document.createElement('summary');
  const rest = docs.filter((d) => !FIRST_SETTINGS.includes(d.key));
  summary.textContent = `Advanced settings (${rest.length} more; defaults shown beside each)`;
  const grid = document.createElement('div');
  grid.className = 'settings-grid';
  advanced.append(summary, grid);
  box.append(first, advanced);
  const ordered = [...FIRST_SETTINGS.map((k) => docs.find((d) => d.key === k)).filter(Boolean), ...rest];
  for (const d of ordered) {
    const choices = d.choices || [];
    const label = document.createElement('label');
    label.title = d.help;
    label.append(`${d.key} `);
    let input;
    if (isBoolean(choices)) {
      input = document.createElement('input');
      input.type = 'checkbox';
    } else if (choices.length) {
      input = document.createElement('select');
      for (const c of choices) input.append(new Option(c, c));
    } else {
      input = document.createElement('input');
      input.type = 'text';
      input.size = 8;
    }
    input.id = `opt-${d.key}`;
    const small = document.createElement('small');
    small.textContent = ` default ${d.default} — ${d.help}`;
    label.append(input, small);
    (FIRST_SETTINGS.includes(d.key) ? first : grid).append(label);
  }
}

// Sets the controls to values ({key: text}); keys without a control are ignored.
export function fillSettings(values) {
  for (const [k, v] of Object.entries(values)) {
    const input = document.getElementById(`opt-${k}`);
    if (!input) continue;
    if (input.type === 'checkbox') input.checked = v === 'true';
    else input.value = v;
  }
}

// The form's values as {key: text}, for every option doc.
export function readSettings(docs) {
  const out = {};
  for (const d of docs) {
    const input = document.getElementById(`opt-${d.key}`);
    out[d.key] = input.type === 'checkbox' ? String(input.checked) : input.value.trim();
  }
  return out;
}
