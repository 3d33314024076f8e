"""The daily digest: figures (build), charts, the German mail (render), its sender and record."""
