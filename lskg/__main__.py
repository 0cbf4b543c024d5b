from lskg.cli import main

main()
