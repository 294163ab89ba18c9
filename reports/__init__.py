"""The compiled report of a review: compiling it and rendering it as HTML or Markdown."""
