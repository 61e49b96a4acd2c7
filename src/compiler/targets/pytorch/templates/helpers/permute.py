class Permute(nn.Module):
    """torchvision's Permute: torch.permute(x, dims), the batch axis included."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)
