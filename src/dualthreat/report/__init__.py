"""The comparative report of the two allies: content (:mod:`build`), charts, and HTML/Markdown renderers."""
