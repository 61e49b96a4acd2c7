class Chunk(nn.Module):
    """Piece `index` of torch.chunk(x, chunks, dim) (a function in PyTorch; a module here, for nn.Sequential)."""

    def __init__(self, chunks, index, dim=1):
        super().__init__()
        self.chunks = chunks
        self.index = index
        self.dim = dim

    def forward(self, x):
        return torch.chunk(x, self.chunks, dim=self.dim)[self.index]
