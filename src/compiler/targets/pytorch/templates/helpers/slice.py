class Slice(nn.Module):
    """x.narrow(dim, start, end - start), i.e. x[:, start:end] along dim (a module here, for nn.Sequential)."""

    def __init__(self, dim, start, end):
        super().__init__()
        self.dim = dim
        self.start = start
        self.end = end

    def forward(self, x):
        return torch.narrow(x, self.dim, self.start, self.end - self.start)
