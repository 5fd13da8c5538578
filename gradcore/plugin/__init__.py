"""The backend contract (the kernels a backend implements, with composite defaults) and plugin discovery."""
