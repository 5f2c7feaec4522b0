"""Colourising: a model (or an ensemble) on photos at their full resolution."""
