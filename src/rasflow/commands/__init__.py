"""One module per ``rasflow`` sub-command: parse arguments, call the library, render."""
