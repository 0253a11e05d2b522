"""Forms of the pages, a module by page: registering a trip (``register``), the trip page's
owner forms (``trips``), the company's fleet (``fleet``) and the home page's filter (``home``),
with what they share in ``common``. They parse and re-display input; the rules live in
``trucks.services``, whose DomainError fields are mapped back onto these forms by
``common.apply_domain_errors``."""
