"""Understanding owners: the template language, the grammar and the embedded parser.

The grammar is imported first here: its ``launch`` rule includes
:mod:`jibo_cloud.nlu.cloud_phrases`, which imports ``Phrase`` back from the grammar.
"""

from jibo_cloud.nlu import grammar as grammar
