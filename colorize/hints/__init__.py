"""Colour hints (issue 26): colour a person gives at some pixels, and how it steers a model.

- sources.py: the Hints of a photo, read from a points file or a painted image,
  or simulated as Zhang et al. 2017's user; hints at another size;
- propagation.py: a hint's residual spread over a graph on L (every model);
- feature_edges.py: the same solve with edges in the shipped model's feature
  view (what predict uses when the model has that layer);
- files.py: which hint file steers which photo of a predict run;
- advice.py: where a hint helps most (--where-to-hint).
"""
