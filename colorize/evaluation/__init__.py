"""Scoring colour against the truth (PSNR, SSIM, AuC, hue recall) and the plots and grids that show it."""
