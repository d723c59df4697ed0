"""The till's services: plain Python, no Textual (the print queue, the sale session, the basket saver, guards)."""
