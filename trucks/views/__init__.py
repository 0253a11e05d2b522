"""Pages of the registration side, a module by page: the home page (``home``), registering a trip
(``register``), the trip page and its owner's changes (``trips``), the pass as it is shown there
and through the signed link (``passes``), and the company's fleet (``fleet``). Each view parses
the request, calls one selector or service and renders the answer; a DomainError from a service
becomes messages on the form that collected the input, with the service's 4xx status, and nothing
the user typed is lost."""
