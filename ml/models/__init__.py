"""Predictive models of pmi: response curves, value and forecasting models fitted on warehouse data."""
