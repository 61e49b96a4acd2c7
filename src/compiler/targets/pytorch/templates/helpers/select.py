class Select(nn.Module):
    """x.select(dim, index): the slice at `index` of axis `dim`, that axis dropped (ViT's x[:, 0])."""

    def __init__(self, dim, index):
        super().__init__()
        self.dim = dim
        self.index = index

    def forward(self, x):
        return x.select(self.dim, self.index)
