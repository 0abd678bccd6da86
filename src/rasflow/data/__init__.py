"""Files rasflow ships: the sample record `rasflow decode --sample` reads."""
