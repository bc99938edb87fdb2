"""One evaluation per task target (see ``framework.evaluate.analysis``)."""
