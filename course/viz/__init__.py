"""Figures and widgets: generic ones here, one module per topic for its lecture figures.

- ``images``: image grids, conditional maps, training curves, masks, weight rows;
- ``chain_rule`` (topic 01): parameter counts and the count explorer widget;
- ``nade`` (topic 03): weight sharing;
- ``made`` (topic 04): masks, the connectivity graph and the mask explorer widget;
- ``pixelcnn`` (topic 06): causal masks, receptive fields layer by layer and the blind-spot
  explorer widget (plain, gated, the double-shift mistake);
- ``pca`` (topic 07): spectra, components, reconstructions and the k explorer widget, 2-D
  codes, rows of images (interpolations, decoded random codes, samples).

Every widget builder returns ``None`` while nbgrader executes a notebook
(``NBGRADER_EXECUTION`` is set): nobody watches a widget during grading.
"""

from course.viz.images import (
    image_grid,
    plot_conditionals,
    plot_curves,
    plot_mask,
    plot_weight_rows,
    show_images,
)

__all__ = [
    "image_grid",
    "plot_conditionals",
    "plot_curves",
    "plot_mask",
    "plot_weight_rows",
    "show_images",
]
