"""Use cases, one function each, taking the acting person and plain input; the API's handlers
(and the CLI) call them."""
