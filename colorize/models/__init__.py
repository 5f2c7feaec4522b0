"""The networks: building them (presets, the ImageNet encoder, the colour-class head) and reading model files."""
