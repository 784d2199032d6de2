// Forms marked data-busy="ID" show the element ID (a "busy…" note with a <progress>) and
// disable their buttons once sent, so a long import or print does not look like a hang and
// is not sent twice. Without JavaScript the form still works; it just shows no note.
for (const form of document.querySelectorAll("form[data-busy]")) {
  form.addEventListener("submit", () => {
    const note = document.getElementById(form.dataset.busy);
    if (note) note.hidden = false;
    for (const button of form.querySelectorAll("button")) button.disabled = true;
  });
}
