"""Chapter 5.4: diffusion models — noise schedules, the denoising U-Net, samplers and the DDPM recipe."""
