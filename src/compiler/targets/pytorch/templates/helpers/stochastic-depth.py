class StochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth(p, mode="row") without torchvision: in training each sample is zeroed with
    probability p and the survivors are scaled by 1 / (1 - p); the identity in eval mode and for p = 0."""

    def __init__(self, p, mode="row"):
        super().__init__()
        if mode != "row":
            raise ValueError(f"netspec generates mode 'row' only, got {mode}")
        self.p = p
        self.mode = mode

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        survival_rate = 1.0 - self.p
        noise = torch.empty([x.shape[0]] + [1] * (x.ndim - 1), dtype=x.dtype, device=x.device)
        noise = noise.bernoulli_(survival_rate)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return x * noise

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
