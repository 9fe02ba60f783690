// Progressive enhancement only: every form works without this file.
// Forms with data-confirm ask before they post (deleting a photo, the voice history).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
