// The skip link must move keyboard focus to the main content, not only scroll to it. Blazor's router
// handles in-page links itself and only scrolls, so the next Tab would still land in the menu. This
// listener runs first (capture phase), before the page is live too, and focuses the target instead.
document.addEventListener('click', event => {
    const link = event.target instanceof Element ? event.target.closest('a.gp-skip-link') : null;
    const target = link && document.getElementById(link.hash.slice(1));
    if (!target)
        return;
    event.preventDefault();
    event.stopPropagation();
    target.focus();
    target.scrollIntoView();
}, true);
