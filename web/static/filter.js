// Narrows a long list of checkboxes to those whose label holds what is typed. Without this
// script the whole list shows, and the filter field stays hidden.
for (const filter of document.querySelectorAll("[data-filter-for]")) {
  const choices = document.getElementById(filter.dataset.filterFor);
  const input = filter.querySelector("input");
  if (!choices || !input) continue;
  filter.hidden = false;
  input.addEventListener("input", () => {
    const wanted = input.value.trim().toLowerCase();
    for (const choice of choices.querySelectorAll(".choice")) {
      choice.hidden = wanted !== "" && !choice.textContent.toLowerCase().includes(wanted);
    }
  });
}
