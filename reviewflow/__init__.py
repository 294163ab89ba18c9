"""The program: the command line, `dev`, process wiring, embedded services and the start-up
check for orphaned reviews; nothing below imports them. `reference`, `canonical`, `text` and
`data/` are shared pieces that any layer reads (tests/test_layers.py places them below)."""
