class Parameter(nn.Module):
    """A learnable tensor `weight` of `shape` per sample (ViT's class token and position embedding, ConvNeXt's
    layer scale), expanded over the batch of its input, which it reads for nothing else."""

    def __init__(self, shape, init="zeros", std=1.0, value=0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(shape))
        if init == "normal":
            nn.init.normal_(self.weight, std=std)
        elif init == "constant":
            nn.init.constant_(self.weight, value)
        elif init == "ones":
            nn.init.ones_(self.weight)
        else:
            nn.init.zeros_(self.weight)

    def forward(self, x):
        return self.weight.expand(x.shape[0], *self.weight.shape)
