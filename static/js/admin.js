'use strict';
// Loaded on every admin page (templates/admin/base_site.html), after Django's own scripts.
//
// The stretch autocomplete is Django's select2 widget. select2 names its combobox after
// the chosen text only, so an empty row has no name at all, marks that text as a second,
// read-only "textbox", and leaves the open list unconnected to the combobox and its search
// box unnamed. Here the combobox is named after its field (the select's aria-label, set in
// programs/admin.py, or its <label>), followed by the chosen stretch.
{
  const $ = window.django && window.django.jQuery;

  function fieldName(select) {
    const label = select.id && document.querySelector(`label[for="${select.id}"]`);
    return select.getAttribute('aria-label') || (label ? label.textContent.replace(/:\s*$/, '').trim() : '');
  }

  function nameAutocomplete(select) {
    const container = select.nextElementSibling;
    if (!container || !container.classList.contains('select2')) {
      return;
    }
    const combobox = container.querySelector('.select2-selection');
    const chosen = container.querySelector('.select2-selection__rendered');
    if (!combobox || !chosen || combobox.dataset.named) {
      return;
    }
    const name = document.createElement('span');
    name.id = `${select.id}-name`;
    name.className = 'visually-hidden';
    name.textContent = fieldName(select);
    container.prepend(name);
    chosen.removeAttribute('role');
    chosen.removeAttribute('aria-readonly');
    combobox.setAttribute('aria-labelledby', `${name.id} ${chosen.id}`);
    combobox.dataset.named = '1';
  }

  function nameAll(root) {
    root.querySelectorAll('select.admin-autocomplete').forEach(nameAutocomplete);
  }

  if ($) {
    // Registered after Django's autocomplete.js, so these run once select2 is in place.
    $(() => nameAll(document));
    document.addEventListener('formset:added', (event) => nameAll(event.target));
    $(document).on('select2:open', 'select.admin-autocomplete', (event) => {
      const select = event.target;
      const combobox = select.nextElementSibling.querySelector('.select2-selection');
      const results = document.getElementById(`select2-${select.id}-results`);
      const search = document.querySelector('.select2-container--open .select2-search__field');
      if (results) {
        combobox.setAttribute('aria-controls', results.id);
      }
      if (search) {
        search.setAttribute('aria-label', `Search ${fieldName(select).toLowerCase()}`);
      }
    });
  }
}
